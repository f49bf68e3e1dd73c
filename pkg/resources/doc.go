// Package resources holds one driver per AWS resource type that envctl
// manages, the schema each driver declares, and the registry that lists them.
//
// A driver observes and changes one kind of live resource; it never decides
// what should happen. Deciding (create, update, replace, delete, adopt) is
// the job of package plan.
package resources

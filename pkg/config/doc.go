// Package config loads env files: it parses YAML keeping the position of
// every value, merges an env with the file it extends, interpolates
// ${var.*} and ${env.*}, keeps ${id.attr} references for the plan to resolve,
// and checks every resource against its type's schema. All problems are
// collected and reported as file:line:col.
package config

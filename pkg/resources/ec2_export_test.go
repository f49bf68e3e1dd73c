package resources

import "time"

// SetSGDeleteWait shortens how long deleting a security group waits for its
// holders, for a test; the returned function restores the defaults.
func SetSGDeleteWait(timeout, poll time.Duration) (restore func()) {
	oldTimeout, oldPoll, oldMax := sgDeleteTimeout, sgDeletePoll, sgDeleteMaxPoll
	sgDeleteTimeout, sgDeletePoll, sgDeleteMaxPoll = timeout, poll, poll
	return func() { sgDeleteTimeout, sgDeletePoll, sgDeleteMaxPoll = oldTimeout, oldPoll, oldMax }
}

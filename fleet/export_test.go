package fleet

import "testing"

// SetStepHook runs f before each step of a publish (retry's step names)
// until the test ends.
func SetStepHook(t *testing.T, f func(step string)) {
	stepHook = f
	t.Cleanup(func() { stepHook = nil })
}

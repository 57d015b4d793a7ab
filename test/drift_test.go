package test

import "testing"

// Every stack the app synthesizes is among the names `renderenv drift`
// expects, so drift never reports a stack the manifests still produce.
func TestDriftExpectsEveryStackTheAppSynthesizes(t *testing.T) {
	for _, spec := range checkedEstates {
		t.Run(spec.name, func(t *testing.T) {
			s := synth(t, spec)
			expected := s.Manifests.StackNames()
			for _, st := range s.Assembly.Stacks {
				if !expected[st.Name] {
					t.Errorf("%s is synthesized, but drift would report it", st.Name)
				}
			}
		})
	}
}

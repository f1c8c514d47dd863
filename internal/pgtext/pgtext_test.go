package pgtext

import "testing"

func TestClean(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"café": "café", "a\x00b": "a\uFFFDb", "caf\xe9": "caf\uFFFD", "": ""} {
		if got := Clean(in); got != want || !Storable(got) {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	if Storable("a\x00") || Storable("\xff") || !Storable("ok") {
		t.Error("Storable misjudges")
	}
}

package extra

import "testing"

func TestWords(t *testing.T) {
	if got := Words(" a b  c "); got != 3 {
		t.Fatalf("Words = %d", got)
	}
}

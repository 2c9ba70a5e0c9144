package normcheck

import "testing"

func TestIsNFC(t *testing.T) {
	if !IsNFC("\u00e9") || IsNFC("e\u0301") {
		t.Fatal("NFC check is wrong")
	}
}

// Package normcheck tells whether text is already in NFC (golang.org/x/text, shared with greeter).
package normcheck

import "golang.org/x/text/unicode/norm"

// IsNFC reports whether s is in Unicode normalisation form C.
func IsNFC(s string) bool {
	return norm.NFC.IsNormalString(s)
}

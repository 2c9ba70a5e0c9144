// Package names normalises the names greeter greets.
package names

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Clean returns name in Unicode NFC with surrounding space removed.
func Clean(name string) string {
	return norm.NFC.String(strings.TrimSpace(name))
}

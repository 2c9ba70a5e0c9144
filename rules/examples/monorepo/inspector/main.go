// Command inspector prints CPU features and an NFC check.
package main

import (
	"fmt"

	"example.com/mono/inspector/cpuinfo"
	"example.com/mono/inspector/normcheck"
)

func main() {
	fmt.Println(cpuinfo.Features(), normcheck.IsNFC("e\u0301"))
}

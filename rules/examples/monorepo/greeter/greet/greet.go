// Package greet builds greetings for people and hosts.
package greet

import (
	"golang.org/x/net/idna"

	"example.com/mono/greeter/names"
)

// Hello greets a person.
func Hello(name string) string {
	return "hello, " + names.Clean(name)
}

// Host greets a host by its ASCII (punycode) name.
func Host(host string) (string, error) {
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return "", err
	}
	return "hello, " + ascii, nil
}

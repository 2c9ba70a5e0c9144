package greet

import "testing"

func TestHello(t *testing.T) {
	if got := Hello(" Zoe\u0308 "); got != "hello, Zo\u00eb" {
		t.Fatalf("Hello = %q", got)
	}
}

func TestHost(t *testing.T) {
	got, err := Host("bücher.example")
	if err != nil || got != "hello, xn--bcher-kva.example" {
		t.Fatalf("Host = %q, %v", got, err)
	}
}

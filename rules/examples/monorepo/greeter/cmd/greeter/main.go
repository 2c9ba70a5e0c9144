// Command greeter greets its arguments.
package main

import (
	"fmt"
	"os"

	"example.com/mono/greeter/extra"
	"example.com/mono/greeter/greet"
)

func main() {
	for _, a := range os.Args[1:] {
		fmt.Println(greet.Hello(a), extra.Words(a))
	}
	host, err := greet.Host("bücher.example")
	fmt.Println(host, err)
}

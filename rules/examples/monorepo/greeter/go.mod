module example.com/mono/greeter

go 1.25

require (
	golang.org/x/net v0.55.0
	golang.org/x/text v0.37.0
)

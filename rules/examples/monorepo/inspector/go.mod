module example.com/mono/inspector

go 1.25

require (
	golang.org/x/sys v0.45.0
	golang.org/x/text v0.37.0
)

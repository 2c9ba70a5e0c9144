module delayproxy

go 1.24

module prototap

go 1.22

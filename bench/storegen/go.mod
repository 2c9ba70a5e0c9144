module storegen

go 1.24

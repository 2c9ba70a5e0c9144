module casbridge.bench/protobench

go 1.24

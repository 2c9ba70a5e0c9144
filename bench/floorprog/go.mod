module floorprog

go 1.24

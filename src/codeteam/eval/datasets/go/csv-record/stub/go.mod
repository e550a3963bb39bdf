module csvrec

go 1.22

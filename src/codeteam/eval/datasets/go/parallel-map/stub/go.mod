module parmap

go 1.22

module dsu

go 1.22

module bank

go 1.22

module lazy

go 1.22

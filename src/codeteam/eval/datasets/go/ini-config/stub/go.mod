module ini

go 1.22

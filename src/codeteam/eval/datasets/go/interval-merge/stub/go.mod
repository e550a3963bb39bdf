module intervals

go 1.22

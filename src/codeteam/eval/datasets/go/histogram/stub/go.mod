module histogram

go 1.22

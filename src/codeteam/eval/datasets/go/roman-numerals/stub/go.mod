module roman

go 1.22

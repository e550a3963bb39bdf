module ring

go 1.22

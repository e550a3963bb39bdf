module humandur

go 1.22

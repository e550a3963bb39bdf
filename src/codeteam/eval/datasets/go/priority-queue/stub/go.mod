module pq

go 1.22

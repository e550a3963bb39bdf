module lru

go 1.22

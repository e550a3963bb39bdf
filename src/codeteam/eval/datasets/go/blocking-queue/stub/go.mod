module bqueue

go 1.22

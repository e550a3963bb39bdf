module dedupe

go 1.22

module expr

go 1.22

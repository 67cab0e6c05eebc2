module parsebench

go 1.19

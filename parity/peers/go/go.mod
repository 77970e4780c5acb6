module lakehouse/parity/peers/go

go 1.22

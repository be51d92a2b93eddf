"""The DIAN lifecycle of a received invoice: events 030-034, one by one or in bulk."""

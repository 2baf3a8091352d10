"""NAV refund offsetting (automatisk utligning av sykepengerefusjon): K27 lines against HR's claims."""

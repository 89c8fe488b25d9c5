"""`make distributed`'s parts, by concern: where everything listens (topology), the machine's
services and the steps before the first start (provisioning), each part's variables
(environments), and nginx's configuration (nginx). scripts/run_distributed.py puts them
together."""

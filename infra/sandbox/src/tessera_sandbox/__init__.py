"""The sandbox payment provider and carrier that stand in for the real webhook senders."""

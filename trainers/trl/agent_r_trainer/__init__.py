"""agent-r trainer companion: TRL SFT with Agent-R's loss mask, served back to the loop."""

"""The sample province: a deterministic generator of landing folders that follow landing.md."""

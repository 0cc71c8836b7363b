"""What the published marts become for people: the monthly Excel report pack, the offline dashboard, the data
quality page. Reads only the published file (never the working warehouse)."""

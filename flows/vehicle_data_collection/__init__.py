"""Vehicle data collection from Statens vegvesen (innhenting av kjøretøydata).

fleet.py     read the fleet list (Excel) with errors naming file, row and column
periods.py   tertials (the climate report's period)
lookup.py    the lookup handler for the kit's item loop: fetchers, rate limit, quota deferral
outcomes.py  a found vehicle -> done or an exception case (evidence for the review app)
climate.py   zero-emission shares per unit and per light/heavy, beside the previous run's
report.py    kjoretoy.xlsx: sheets Kjøretøy and Klimarapport, with the chart (PNG)
process.py   the run: decisions, enqueue, lookups, odometer from the web page, report, summary
flow.py      the Prefect flow (a thin wrapper); cli.py  `rpa run vehicle-data-collection`
"""

PROCESS_ID = "vehicle-data-collection"

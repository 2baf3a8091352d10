"""Vehicle data collection from Statens vegvesen (innhenting av kjøretøydata).

fleet.py     the fleet list's rows (the shared table reader): plate or VIN, unit, own kilometerstand
lookup.py    the lookup handler for the kit's item loop: registry errors -> outcomes, quota pauses
outcomes.py  a found vehicle -> done or an exception case (evidence for the review app)
climate.py   zero-emission shares per unit and per light/heavy, beside the previous run's
report.py    kjoretoy.xlsx: sheets Kjøretøy and Klimarapport, with the chart (PNG)
process.py   the run: decisions, enqueue, lookups, odometer from the web page, report, summary
declaration.py, flow.py, cli.py  the kit's Prefect flow and `rpa run vehicle-data-collection`
"""

PROCESS_ID = "vehicle-data-collection"

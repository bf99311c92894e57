"""The clinic's report of what families asked (`make report`): figures, masked questions, HTML.

build.py runs it all: store.py reads the tracker store, conversations.py
reads each conversation's events, figures.py counts, masking.py removes what
identifies a family, grouping.py groups unanswered questions, page.py writes
the HTML. settings.py reads data/report/settings.yml; demo.py generates
conversations (the demo, the speed test, the tests).
"""

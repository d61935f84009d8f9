"""The dossier REST API: the citizen's dossiers, the officers' queue and actions, public tracking.

Views stay thin: selectors fetch and authorise (404 for other people's objects), services make
every change, serializers only validate the shape of what comes in and render what goes out.
"""

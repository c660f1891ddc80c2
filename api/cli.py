"""The `eventledger` command: the app's commands (api/commands.py) on an app built from the environment."""

import click
from flask.cli import FlaskGroup

from api import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def main():
    """eventledger: serve and maintain the dataset."""

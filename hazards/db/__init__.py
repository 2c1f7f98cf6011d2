"""Everything that talks to the database: models, the embedded server, migrations, SQL."""

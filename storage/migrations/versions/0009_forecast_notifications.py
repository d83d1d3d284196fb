"""forecast notifications: a notification's code and params beside the spend thresholds (credits_running_out)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The rows already there are spend thresholds: the server default names them.
    op.add_column('notifications', sa.Column('code', sa.String(length=32), server_default='spend_threshold',
                                             nullable=False))
    op.add_column('notifications', sa.Column('detail', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('detail')
        batch.drop_column('code')

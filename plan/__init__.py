"""The offline engine: run the program under Pulumi's mock runtime, record, evaluate policies, report."""

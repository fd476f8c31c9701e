"""What-if scenarios: solve a changed copy of a week and compare, never touching live bookings.

scenario    parse the changes (add a studio, open evenings, block a day, close a base), build
            the week's snapshot once, solve it and its changed copy, and compare the plans
"""

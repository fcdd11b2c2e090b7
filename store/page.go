package store

import "gorm.io/gorm"

// Page counts the rows base selects and reads one page of them in order. base is called
// twice because a counted GORM statement cannot be reused for the select.
func Page[T any](base func() *gorm.DB, order string, page, size int) ([]T, int64, error) {
	var total int64
	if err := base().Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []T
	if err := base().Order(order).Offset((page - 1) * size).Limit(size).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	return rows, total, nil
}
